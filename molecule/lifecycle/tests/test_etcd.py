"""lc-cp after side_effect: the keys written before the backup are back, the key written after it is gone."""

testinfra_hosts = ["lc-cp"]

ETCDCTL = ("ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt "
           "--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt "
           "--key=/etc/kubernetes/pki/etcd/healthcheck-client.key")


def test_etcd_runs_on_the_restored_data(host):
    with host.sudo():
        assert host.service("etcd").is_running
        assert host.run(f"{ETCDCTL} endpoint health").rc == 0


def test_keys_written_before_the_snapshot_are_back(host):
    with host.sudo():
        for key in ("k1", "k2", "k3"):
            out = host.check_output(f"{ETCDCTL} get /lifecycle/{key} --print-value-only")
            assert out == f"value-of-{key}"


def test_key_written_after_the_snapshot_is_gone(host):
    with host.sudo():
        assert host.check_output(f"{ETCDCTL} get /lifecycle/after-backup --print-value-only") == ""


def test_old_data_kept_aside_and_restored_data_owned_by_etcd(host):
    with host.sudo():
        assert host.file("/var/lib/etcd").user == "etcd"
        assert host.file("/var/lib/etcd/member").is_directory
        aside = host.check_output("ls -d /var/lib/etcd.before-restore-* | wc -l")
        assert aside == "1"
        assert host.check_output("ls /var/backups/etcd/ | grep -c '^etcd-snapshot-lc-cp-'") == "2"
