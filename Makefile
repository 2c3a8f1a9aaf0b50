# homelab.stack: `make lab` builds the local lab and converges it, `make test` is the whole test gate.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        ?= .venv
SHARED_CRDS := $(firstword $(wildcard $(CURDIR)/../shared/crd-schemas /work/shared/crd-schemas))
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR ?= 0
export PY_COLORS ?= 0
# Custom-resource schemas: the public CRDs catalog unless told otherwise (CI points at ../shared/crd-schemas),
# then the project's own schemas/ for kinds the catalog lacks.
HOMELAB_CRD_SCHEMAS ?= $(if $(SHARED_CRDS),$(SHARED_CRDS),https://raw.githubusercontent.com/datreeio/CRDs-catalog/main)
export HOMELAB_CRD_SCHEMAS := $(HOMELAB_CRD_SCHEMAS) $(CURDIR)/schemas
export ANSIBLE_VAULT_PASSWORD_FILE ?= $(CURDIR)/.lab/vault-password

PLAYBOOKS   := site.yml $(wildcard playbooks/*.yml)
SCENARIOS   ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
FAKE_VAULT  := tests/fixtures/fake-vault.yml

.PHONY: help setup deps docker image lab lab-up lab-down secrets test lint syntax render validate unit molecule \
        collection bench docs clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: $(VENV)/.installed .collections/ansible_collections/homelab/stack ## virtualenv, collections, the repo as homelab.stack

$(VENV)/.installed: requirements.txt collections/requirements.yml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/ansible-galaxy collection install --offline -r collections/requirements.yml >/dev/null
	touch $@

.collections/ansible_collections/homelab/stack:
	mkdir -p $(@D)
	ln -sfn ../../.. $@

deps: ## system packages the lab and the test gate use (Debian/Ubuntu, root)
	lab/deps.sh

docker: deps ## a running Docker engine (installed and started if none answers)
	lab/docker.sh

image: docker ## the lab node image, built locally with debootstrap
	lab/image.sh

secrets: setup ## the lab's vault (random secrets, encrypted with .lab/vault-password)
	lab/secrets.sh

lab-up: image secrets ## start the three lab nodes
	lab/lab.sh up

lab: setup lab-up ## build the lab and converge site.yml on it (run again: changed=0)
	ansible-playbook -i inventory/lab site.yml

lab-down: ## remove every container, network and volume the lab created
	lab/lab.sh down

test: setup lint syntax render validate unit molecule ## the whole test gate (CI runs this)
	@echo "make test: all checks passed"

lint: setup deps secrets ## yamllint and ansible-lint (production profile)
	yamllint --strict .
	ansible-lint --profile production
	shellcheck -x lab/*.sh lab/node/*.sh .ci/run

syntax: setup secrets ## --syntax-check of every playbook against both inventories
	for inv in lab homelab; do for pb in $(PLAYBOOKS); do \
	  ansible-playbook -i inventory/$$inv --syntax-check $$pb -e @$(FAKE_VAULT) >/dev/null || { echo "syntax: $$pb ($$inv)"; exit 1; }; \
	done; done; echo "syntax: $(words $(PLAYBOOKS)) playbooks x 2 inventories OK"

render: setup secrets ## render every manifest and values file of both inventories under build/ (both at once)
	@mkdir -p build; echo "render: inventory/lab and inventory/homelab at once (logs: build/render-<env>.log)"
	@ansible-playbook -i inventory/lab playbooks/render.yml >build/render-lab.log 2>&1 & lab=$$!; \
	ansible-playbook -i inventory/homelab playbooks/render.yml -e @$(FAKE_VAULT) >build/render-homelab.log 2>&1 \
	  && homelab=0 || homelab=$$?; wait $$lab && lab=0 || lab=$$?; \
	for env in lab homelab; do echo "== render $$env"; sed -n '/^PLAY RECAP/,/^$$/p' build/render-$$env.log; done; \
	[ $$lab -eq 0 ] || { cat build/render-lab.log; echo "render: inventory/lab failed"; exit 1; }; \
	[ $$homelab -eq 0 ] || { cat build/render-homelab.log; echo "render: inventory/homelab failed"; exit 1; }

validate: render ## validate build/ against Kubernetes 1.31 strict and the CRD schemas
	python tools/k8s_validate.py build/lab build/homelab

unit: setup deps render ## pytest: plugins, rendered output, preflight cases, promtool/amtool, checkov
	python -m pytest -q tests

molecule: setup image secrets ## every molecule scenario, one after another
	mirror=$$(lab/mirror.sh); eval "$$mirror"; \
	for s in $(SCENARIOS); do echo "== molecule $$s"; flock /tmp/homelab-molecule.lock molecule test -s $$s || exit 1; done

collection: setup ## build the installable collection tarball
	ansible-galaxy collection build --force

bench: setup image ## converge and re-run timings, written to build/bench.json and build/bench.md
	tools/bench.sh

docs: setup ## regenerate the variables table of every role README from meta/argument_specs.yml
	python tools/role_docs.py --write

clean: lab-down ## remove build output and caches (keeps the virtualenv)
	rm -rf build .cache homelab-stack-*.tar.gz
