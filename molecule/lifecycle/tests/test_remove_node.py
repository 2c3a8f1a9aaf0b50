"""lc-cp after remove_node.yml --limit lc-gone (a node that is down): the Node object was looked up and deleted
through the first control plane's kubectl (FAKE here), and the node was not drained."""

testinfra_hosts = ["lc-cp"]


def test_node_object_deleted_without_drain(host):
    with host.sudo():
        log = host.file("/var/log/fake-kubectl.log").content_string
    assert "get node lc-gone --ignore-not-found --output=name" in log
    assert "delete node lc-gone --ignore-not-found" in log
    assert "drain" not in log
