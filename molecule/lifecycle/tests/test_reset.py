"""lc-worker after reset.yml: every FAKE leftover is gone, what is not Kubernetes' is still there."""

testinfra_hosts = ["lc-worker"]


def test_cni_interfaces_are_gone_and_others_stay(host):
    links = host.check_output("ip -o link show")
    for name in ("cilium_host", "cilium_net", "cni0", "flannel.1"):
        assert f" {name}:" not in links and f" {name}@" not in links, name
    assert " keep0:" in links


def test_kubernetes_chains_are_gone_and_others_stay(host):
    with host.sudo():
        rules = host.check_output("iptables-save")
        assert "KUBE-TEST-FORWARD" not in rules
        assert "CILIUM_TEST_POST" not in rules
        assert ":KEEP-TEST" in rules and "-A INPUT -j KEEP-TEST" in rules
        assert "KUBE-TEST6" not in host.run("ip6tables-save").stdout


def test_state_folders_are_gone(host):
    with host.sudo():
        for path in ("/etc/cni/net.d", "/var/lib/cni", "/var/lib/kubelet", "/var/lib/etcd", "/etc/kubernetes",
                     "/root/.kube/config"):
            assert not host.file(path).exists, path
        assert "/var/lib/kubelet" not in host.check_output("cat /proc/mounts")


def test_kubeadm_reset_was_called_once(host):
    with host.sudo():
        log = host.file("/var/log/fake-kubeadm.log").content_string.splitlines()
    assert log == ["FAKE kubeadm reset --force --cri-socket=unix:///run/containerd/containerd.sock"]
