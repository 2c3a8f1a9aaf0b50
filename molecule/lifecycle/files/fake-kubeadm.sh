#!/bin/sh
# FAKE kubeadm of molecule/lifecycle: no kubeadm binary can be downloaded here. It records how it was called, so
# the scenario checks that reset.yml runs `kubeadm reset --force --cri-socket=...`; the rest of the reset (mounts,
# interfaces, iptables, folders) is done for real by the role and checked on the node.
echo "FAKE kubeadm $*" >> /var/log/fake-kubeadm.log
