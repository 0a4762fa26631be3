"""The rule registry: an explicit list, in code order. A new rule is a module here and a line below."""

from pipelint.rules.con001_missing_image_connector import MissingImageConnector
from pipelint.rules.con002_image_connector_scope import ImageConnectorScope
from pipelint.rules.con003_image_connector_wrong_type import ImageConnectorWrongType
from pipelint.rules.img001_untagged_image import UntaggedImage
from pipelint.rules.img002_latest_tag import LatestTag
from pipelint.rules.img003_unpinned_image import UnpinnedImage
from pipelint.rules.img004_digest_mismatch import DigestMismatch
from pipelint.rules.reg001_retired_harness_registry import RetiredHarnessRegistry
from pipelint.rules.reg002_registry_provider_mismatch import RegistryProviderMismatch
from pipelint.rules.reg003_anonymous_docker_hub import AnonymousDockerHub
from pipelint.rules.reg004_image_connector_through_delegate import ImageConnectorThroughDelegate
from pipelint.rules.yml001_invalid_yaml import InvalidYaml
from pipelint.rules.yml002_duplicate_key import DuplicateKey
from pipelint.rules.yml003_merge_key import MergeKey

RULES = (
    InvalidYaml,
    DuplicateKey,
    MergeKey,
    RetiredHarnessRegistry,
    RegistryProviderMismatch,
    AnonymousDockerHub,
    ImageConnectorThroughDelegate,
    MissingImageConnector,
    ImageConnectorScope,
    ImageConnectorWrongType,
    UntaggedImage,
    LatestTag,
    UnpinnedImage,
    DigestMismatch,
)

BY_CODE = {r.code: r for r in RULES}
BY_NAME = {r.name: r for r in RULES}
