"""batchspec's Pulumi policy pack (run by the Pulumi CLI: `pulumi preview
--policy-pack policy`). The policies live in `batchspec.pulumi.policy_pack`."""

from pulumi_policy import EnforcementLevel, PolicyPack

from batchspec.pulumi.policy_pack import PACK_NAME, build_policies

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(),
)
