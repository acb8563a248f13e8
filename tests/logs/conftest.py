"""The deployed world of tests/faults (moto's server, the Slack fake, a table): one world builder."""

from tests.faults.test_faults_kill import deployed  # noqa: F401 - re-exported as this folder's fixture
