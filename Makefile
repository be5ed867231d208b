# spo.user_profiles: development and CI entry points. `make test` runs everything CI runs.

PYTHON ?= python3
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
# ansible-test needs the collection at …/ansible_collections/spo/user_profiles: a staged copy, kept between
# runs so that reruns are quick. It must be outside this git work tree, or ansible-test lists no files.
STAGE_BASE ?= $(or $(TMPDIR),/tmp)/spo.user_profiles-$(shell printf '%s' '$(ROOT)' | cksum | cut -d' ' -f1)
STAGE := $(STAGE_BASE)/ansible_collections/spo/user_profiles
ANSIBLE_TEST := PATH="$(VENV)/bin:$$PATH" $(VENV)/bin/ansible-test
GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
# The Python version of the virtual environment (evaluated when a recipe runs, after `venv`).
TEST_PYTHON = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

.PHONY: venv stage lint sanity units emulator-tests reliability integration test demo bench release-changelog clean

# The virtual environment is rebuilt only when a requirements file changes.
$(VENV)/.installed: requirements.txt tests/unit/requirements.txt tests/requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt -r tests/unit/requirements.txt -r tests/requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# ansible-test bootstraps pip in each of its virtual environments with a script it cannot download here.
$(GET_PIP): .ci/get_pip_standin.py
	mkdir -p $(dir $@)
	cp $< $@

stage: venv
	$(PY) .ci/stage_collection.py $(ROOT) $(STAGE)

# The linters, on the staged copy: ansible-lint (production profile, nothing skipped), the changelog, and the docs
# (plugin docs, roles and docs/docsite). ansible-lint runs --offline (it installs nothing from Galaxy) and every tool
# gets ANSIBLE_HOME in the stage, so none of them writes under ~/.ansible.
LINT_ENV := PATH="$(VENV)/bin:$$PATH" ANSIBLE_HOME=$(STAGE_BASE)/ansible-home ANSIBLE_COLLECTIONS_PATH=$(STAGE_BASE)
lint: stage
	cd $(STAGE) && $(LINT_ENV) $(VENV)/bin/ansible-lint --offline --profile production --nocolor
	cd $(STAGE) && $(LINT_ENV) $(VENV)/bin/antsibull-changelog lint
	cd $(STAGE) && $(LINT_ENV) $(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs .

sanity: stage $(GET_PIP)
	cd $(STAGE) && $(ANSIBLE_TEST) sanity --venv --python $(TEST_PYTHON) --color no

units: stage
	@test -n "$$(find tests/unit -name 'test_*.py' | head -n 1)" || { echo "no unit tests found" >&2; exit 1; }
	cd $(STAGE) && $(ANSIBLE_TEST) units --local --python $(TEST_PYTHON) --color no

emulator-tests: venv
	$(PY) -m pytest -q -p no:cacheprovider tests/emulator/tests

# The reliability suite (tests/reliability): the bad-input corpus, faults across a multi-tenant role run and the leak
# scan, against an emulator of its own, from the staged collection. `make reliability PYTEST_ARGS="-k corpus"` narrows it.
PYTEST_ARGS ?=
reliability: stage
	cd $(STAGE) && PATH="$(VENV)/bin:$$PATH" PYTHONPATH=$(STAGE_BASE) $(PY) -m pytest -q -p no:cacheprovider tests/reliability $(PYTEST_ARGS)

# `make integration TARGETS="connection upa_job_info"` runs only those targets.
TARGETS ?=
integration: stage
	.ci/integration.sh $(STAGE) $(PY) $(TARGETS)

test: lint sanity units emulator-tests reliability integration demo

demo: venv
	PYTHON=$(PY) scripts/demo.sh

bench: venv
	$(PY) .ci/bench.py benchmarks

# The release cut, for the maintainer who releases, on main after the last merge of the release: the fragments become
# the release of galaxy.yml's version in changelogs/changelog.yaml and CHANGELOG.rst (and are removed). Then review,
# commit, tag and build (docs/developer_guide.md, "Cutting a release"). The release_cut integration target rehearses it.
RELEASE_VERSION = $(shell sed -n 's/^version: *//p' galaxy.yml)
release-changelog: venv
	@git diff --quiet HEAD -- || { echo "commit or stash your changes first: the cut must be a commit of its own" >&2; exit 1; }
	PATH="$(VENV)/bin:$$PATH" ANSIBLE_HOME=$(STAGE_BASE)/ansible-home $(VENV)/bin/antsibull-changelog release --version $(RELEASE_VERSION)
	PATH="$(VENV)/bin:$$PATH" ANSIBLE_HOME=$(STAGE_BASE)/ansible-home $(VENV)/bin/antsibull-changelog lint
	@echo "Released $(RELEASE_VERSION) in CHANGELOG.rst and changelogs/changelog.yaml; review, commit, tag $(RELEASE_VERSION)."

clean:
	rm -rf $(STAGE_BASE)
