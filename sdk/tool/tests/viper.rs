//! `--viper-output`: one `<pd>.vpr` per PD in the format Microkit 2.3's tool writes (see
//! `microkit_tool::viper`): the PD's view of channels and IRQs, its capability table and its
//! memory.

mod common;

use common::*;

#[test]
fn viper_output_describes_each_pd() {
    let dir = tmpdir("viper");
    populate(&dir, EM_AARCH64);
    let sys = fixture("ok/hello.system");
    let out = dir.join("viper");
    let o = run_tool(&sys, "qemu_virt_aarch64", &dir, &["--viper-output", out.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |pd: &str| std::fs::read_to_string(out.join(format!("{pd}.vpr"))).expect("vpr");
    // producer: notified on channels 0 (consumer) and 1 (logger), may notify only channel 0
    // (its end 1 has notify="false"); its notification is its input cap (slot 1), the
    // monitor's fault endpoint slot 2, VSpace 3, reply 4, the notification to consumer 10.
    let want = format!(
        "// exported invariants for PD producer in {}
define mk_is_protected_source(x) (false)
define f_mk_is_protected_source(heap,gv,x) (mk_is_protected_source(x))
define mk_is_ppcall_target(x) (false)
define f_mk_is_ppcall_target(heap,gv,x) (mk_is_ppcall_target(x))
define mk_is_notified_source(x) (x in Set(0,1))
define f_mk_is_notified_source(heap,gv,x) (mk_is_notified_source(x))
define mk_is_notify_target(x) (x in Set(0))
define f_mk_is_notify_target(heap,gv,x) (mk_is_notify_target(x))
define mk_is_irq_channel(x) (false)
define f_mk_is_irq_channel(heap,gv,x) (mk_is_irq_channel(x))
define mk_is_child(x) (false)
define f_mk_is_child(heap,gv,x) (mk_is_child(x))
define pansel4_has_cap(x) (x in Set(1,2,3,4,10))
define f_pansel4_has_cap(heap,gv,x) (pansel4_has_cap(x))
define pansel4_has_endpoint_cap(x) (x in Set(2))
define f_pansel4_has_endpoint_cap(heap,gv,x) (pansel4_has_endpoint_cap(x))
define pansel4_has_notification_cap(x) (x in Set(1,10))
define f_pansel4_has_notification_cap(heap,gv,x) (pansel4_has_notification_cap(x))
define pansel4_has_reply_cap(x) (x in Set(4))
define f_pansel4_has_reply_cap(heap,gv,x) (pansel4_has_reply_cap(x))
define pansel4_has_page_table_cap(x) (x in Set(3))
define f_pansel4_has_page_table_cap(heap,gv,x) (pansel4_has_page_table_cap(x))
define pansel4_has_irq_handler_cap(x) (false)
define f_pansel4_has_irq_handler_cap(heap,gv,x) (pansel4_has_irq_handler_cap(x))
define pansel4_has_tcb_cap(x) (false)
define f_pansel4_has_tcb_cap(heap,gv,x) (pansel4_has_tcb_cap(x))
define pansel4_has_vcpu_cap(x) (false)
define f_pansel4_has_vcpu_cap(heap,gv,x) (pansel4_has_vcpu_cap(x))
define pansel4_has_ioport_cap(x) (false)
define f_pansel4_has_ioport_cap(heap,gv,x) (pansel4_has_ioport_cap(x))
define pansel4_has_arm_smc_cap(x) (false)
define f_pansel4_has_arm_smc_cap(heap,gv,x) (pansel4_has_arm_smc_cap(x))
define mem_ring_buf_contains(x) (1073741824 <= x && x < 1073758208)
define mem_readable(x) (mem_ring_buf_contains(x))
define f_mem_readable(heap,gv,x) (mem_readable(x))
define mem_writeable(x) (mem_ring_buf_contains(x))
define f_mem_writeable(heap,gv,x) (mem_writeable(x))
",
        sys.display()
    );
    assert_eq!(read("producer"), want);
    // consumer maps the ring read-only: readable but not writeable.
    let c = read("consumer");
    assert!(c.contains("define mem_ring_buf_contains(x) (1342177280 <= x && x < 1342193664)\n"), "{c}");
    assert!(c.contains("define mem_writeable(x) (false)\n"), "{c}");
    assert!(c.contains("define mk_is_notified_source(x) (x in Set(1,2))\n"), "{c}");
    // logger maps nothing.
    let l = read("logger");
    assert!(l.contains("define mem_readable(x) (false)\n"), "{l}");
}

/// PPC, IRQ and child views: a passive server reached by PPC, a client that may PPC it.
#[test]
fn viper_output_ppc_irq_and_children() {
    let dir = tmpdir("viper-ppc");
    populate(&dir, EM_AARCH64);
    let text = r#"<system>
    <protection_domain name="server" priority="200">
        <program_image path="producer.elf" />
        <irq irq="33" id="5" />
        <protection_domain name="kid" id="7" priority="100">
            <program_image path="consumer.elf" />
        </protection_domain>
    </protection_domain>
    <protection_domain name="client" priority="100">
        <program_image path="logger.elf" />
    </protection_domain>
    <channel>
        <end pd="client" id="3" pp="true" />
        <end pd="server" id="4" />
    </channel>
</system>"#;
    let sys = dir.join("ppc.system");
    std::fs::write(&sys, text).expect("write");
    let out = dir.join("v");
    let o = run_tool(&sys, "qemu_virt_aarch64", &dir, &["--viper-output", out.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let server = std::fs::read_to_string(out.join("server.vpr")).expect("server");
    for want in [
        "define mk_is_protected_source(x) (x in Set(4))\n",
        "define mk_is_ppcall_target(x) (false)\n",
        "define mk_is_notified_source(x) (x in Set(5,4))\n",
        "define mk_is_irq_channel(x) (x in Set(5))\n",
        "define mk_is_child(x) (x in Set(7))\n",
        "define pansel4_has_irq_handler_cap(x) (x in Set(143))\n",
        "define pansel4_has_tcb_cap(x) (x in Set(209))\n",
    ] {
        assert!(server.contains(want), "missing {want:?} in\n{server}");
    }
    let client = std::fs::read_to_string(out.join("client.vpr")).expect("client");
    assert!(client.contains("define mk_is_ppcall_target(x) (x in Set(3))\n"), "{client}");
    assert!(client.contains("define pansel4_has_endpoint_cap(x) (x in Set(2,77))\n"), "{client}");
    assert!(out.join("kid.vpr").exists());
}
