#!/bin/sh
# FAKE kubectl of molecule/lifecycle: no cluster exists here. It records how it was called, so the scenario
# checks what remove_node.yml asks of the API server (look up, delete) for a node that is down.
echo "FAKE kubectl $*" >> /var/log/fake-kubectl.log
case " $* " in
  *" get node "*) node=$(echo "$*" | sed -n 's/.* get node \([^ ]*\).*/\1/p'); echo "node/$node" ;;
  *" delete node "*) node=$(echo "$*" | sed -n 's/.* delete node \([^ ]*\).*/\1/p'); echo "node \"$node\" deleted" ;;
  *" drain "*) node=$(echo "$*" | sed -n 's/.* drain \([^ ]*\).*/\1/p'); echo "node/$node cordoned"; echo "node/$node drained" ;;
esac
