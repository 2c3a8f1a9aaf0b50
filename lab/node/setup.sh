#!/bin/bash
# Runs inside the debootstrapped rootfs (chroot) and turns it into a lab node: a bare host as Ansible finds it.
# Inputs (environment): MIRROR_URL, MIRROR_SUITES, MIRROR_SECURITY_URL (may be empty).
set -euo pipefail

# Same archive as the controller; nodes reach it through an /etc/hosts entry given at container start.
{
  for suite in $MIRROR_SUITES; do echo "deb $MIRROR_URL $suite main"; done
  if [ -n "$MIRROR_SECURITY_URL" ]; then echo "deb $MIRROR_SECURITY_URL ${MIRROR_SUITES%% *}-security main"; fi
} >/etc/apt/sources.list

# Key-only user for Ansible: '*' means no password at all (unlike '!', which sshd may treat as locked).
useradd --create-home --shell /bin/bash ansible
usermod --password '*' ansible
echo 'ansible ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/ansible
chmod 0440 /etc/sudoers.d/ansible
visudo -cq

install -m 0644 /tmp/node/sshd-lab.conf /etc/ssh/sshd_config.d/10-homelab-lab.conf
install -m 0644 /tmp/node/ssh-hostkeys.service /etc/systemd/system/ssh-hostkeys.service
install -m 0644 /tmp/node/lab-authorized-keys.service /etc/systemd/system/lab-authorized-keys.service
install -m 0755 /tmp/node/lab-authorized-keys /usr/local/sbin/lab-authorized-keys
install -m 0644 -D /tmp/node/sysctl-net-only.conf /etc/systemd/system/systemd-sysctl.service.d/10-net-only.conf
rm -f /etc/ssh/ssh_host_*
systemctl enable ssh.service ssh-hostkeys.service lab-authorized-keys.service 2>/dev/null

# Units that do nothing useful (or fail) in a container: timers that would run apt behind Ansible's back,
# time sync (the host owns the clock), consoles, udev, module loading and binfmt (the kernel is the host's).
systemctl mask 2>/dev/null \
  apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
  systemd-timesyncd.service getty.target getty@tty1.service console-getty.service serial-getty@.service \
  systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service \
  systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-modules-load.service \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer \
  systemd-firstboot.service systemd-remount-fs.service sys-kernel-config.mount \
  systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount

# Each container gets its own machine-id at boot; the image carries none.
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id
ln -s /etc/machine-id /var/lib/dbus/machine-id

# Docker provides these per container.
rm -f /etc/hostname /etc/resolv.conf

apt-get clean
rm -rf /var/lib/apt/lists/* /var/lib/apt/periodic/update-success-stamp /var/cache/apt/*.bin \
  /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /var/log/bootstrap.log /tmp/node
# An empty package list must look stale, or `apt: cache_valid_time` skips the update and installs fail.
touch -d @0 /var/lib/apt/lists
