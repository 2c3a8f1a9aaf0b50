"""lc-db after side_effect: boarddb is the dump again (rows back, post-backup changes gone)."""

testinfra_hosts = ["lc-db"]


def _query(host, sql):
    with host.sudo():
        return host.check_output(f"mysql --batch --skip-column-names --execute {sql!r}")


def test_rows_are_back(host):
    assert _query(host, "SELECT COUNT(*) FROM boarddb.posts") == "3"
    assert _query(host, "SELECT COUNT(*) FROM boarddb.comments") == "5"
    assert _query(host, "SELECT title FROM boarddb.posts WHERE id = 3") == "third, with (parentheses)"


def test_changes_after_the_backup_are_gone(host):
    assert _query(host, "SELECT COUNT(*) FROM boarddb.posts WHERE id = 99") == "0"
    tables = _query(host, "SHOW TABLES FROM boarddb").split()
    assert sorted(tables) == ["audit", "comments", "posts"]


def test_no_copy_of_the_dump_is_left_behind(host):
    with host.sudo():
        assert host.run("ls /var/tmp/mysql-restore-*.cnf").rc != 0
        # the CronJob-style dump made on the node stays; the restore's copy went to the same folder and is gone
        assert host.check_output("ls /var/tmp | grep -c '^mysql-backup-'") == "1"
