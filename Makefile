# healthit.patching: the two commands README.md opens with, and the steps behind them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup lab-up lab-down lab-reset demo test unit lint sanity integration contract build ee

help:
	@echo "make demo   - set up, bring the lab up, run the monthly waves on it, verify the evidence"
	@echo "make test   - set up and run every test: unit, lint, sanity, integration (lab), contract"
	@echo "make lab-up / lab-down - bring the lab up or tear it down (caches kept)"
	@echo "make lab-reset - put every lab target back to its initial state (lab up; evidence kept)"

setup:
	@bash lab/setup.sh

lab-up: setup
	@bash lab/up.sh

lab-down:
	@bash lab/down.sh

lab-reset:
	@bash lab/reset.sh

demo: lab-up
	@bash lab/demo.sh

test: setup
	@bash lab/test.sh all

unit lint sanity integration contract build: setup
	@bash lab/test.sh $@

# The execution environment for AWX / AAP (needs a container registry for the base image: not in the lab).
ee: setup
	@rm -rf .build/ee && mkdir -p .build/ee
	@.venv/bin/ansible-galaxy collection build --force --output-path .build/ee .
	@cp .build/ee/healthit-patching-*.tar.gz .build/ee/healthit-patching.tar.gz
	@.venv/bin/ansible-builder build -f execution-environment.yml -t healthit/patching-ee:$$(awk '/^version:/{print $$2}' galaxy.yml)
