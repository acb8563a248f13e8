# Deploy targets (README.md "Deploy"). Included by the Makefile.
#
#   make generate                infra/ and the README tables, rewritten from the registries
#   make package                 artifact + CloudFormation (.serverless/), cfn-lint: no errors
#   make package-check           what CI runs through `make test`: generated infra/ fresh + package
#   make deploy STAGE=prod [REGION=eu-west-1] [ORG_ID=o-...] [ALARM_EMAIL=...]
#   make remove STAGE=prod       tear down (the DynamoDB table is retained: it holds the audit trail)

STAGE       ?= dev
REGION      ?= us-east-1
ORG_ID      ?=
ALARM_EMAIL ?=
NODE_STAMP  := node_modules/.installed-$(shell cksum < package-lock.json | cut -d' ' -f1)
OSLS        := node_modules/.bin/osls
TEMPLATE    := .serverless/cloudformation-template-update-stack.json
# Packaging must never reach AWS: dummy credentials, no profile.
OFFLINE_AWS := env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline \
               AWS_REGION=$(REGION) AWS_DEFAULT_REGION=$(REGION)
# W3005: osls adds DependsOn entries that a GetAtt already implies; harmless and not ours to change.
OSLS_PARAMS := --stage $(STAGE) --region $(REGION) $(if $(ORG_ID),--param="orgId=$(ORG_ID)") $(if $(ALARM_EMAIL),--param="alarmEmail=$(ALARM_EMAIL)")
CFN_LINT    := $(BIN)/cfn-lint --non-zero-exit-code error --ignore-checks W3005 --

.PHONY: node-install generate package package-check deploy remove

$(NODE_STAMP): package.json package-lock.json
	@npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@rm -f node_modules/.installed-*; touch $(NODE_STAMP)

node-install: $(NODE_STAMP)

# Rewrite infra/ and the README's generated tables from the registries (commit the result).
generate: install
	$(BIN)/python -m bot.deploy.generate
	$(BIN)/python -m bot.deploy.readme

package: install node-install
	@start=$$(date +%s); \
	$(BIN)/python -m bot.deploy.build && \
	$(OFFLINE_AWS) $(OSLS) package $(OSLS_PARAMS) && \
	$(CFN_LINT) $(TEMPLATE) && \
	echo "package: $(TEMPLATE) passes cfn-lint; artifact $$(du -h .build/eventops.zip | cut -f1); $$(( $$(date +%s) - start )) s"

package-check: install
	$(BIN)/python -m bot.deploy.generate --check
	@$(MAKE) --no-print-directory package STAGE=ci

test: package-check

# Deploys exactly what `package` built and linted (--package), with real credentials.
deploy: package
	@test "$(STAGE)" != "ci" || { echo "deploy: pick a STAGE (make deploy STAGE=prod)"; exit 2; }
	$(OSLS) deploy $(OSLS_PARAMS) --package .serverless
	$(OSLS) info --stage $(STAGE) --region $(REGION) --verbose

remove:
	$(OSLS) remove --stage $(STAGE) --region $(REGION)
