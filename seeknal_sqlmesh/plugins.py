"""The plugin interface: what a plugin may add to seeknal-sqlmesh, and how plugins are found.

A plugin is an object with a `name` and any of five hooks (every hook is optional; subclass `Plugin` and override
what you need):

- `commands()`: click commands added to `seeknal` (the plugin's CLI);
- `node_keys(kind)`: top-level YAML keys the plugin reads on nodes of that kind (the loader warns about keys nobody
  reads, so a plugin's own keys must be declared here);
- `translate_node(node, ctx)`: take over a node the core does not translate itself (an exposure type, a source
  type); return `None` to leave it to the core;
- `assemble(assembly)`: after every node is translated and placed on its gateway, adjust the models
  (`assembly.pieces`) and return what the plugin adds: models, files and its section of the manifest;
- `register_sqlmesh(settings)`: register engine adapters, custom model kinds or macros with SQLMesh before it parses a
  translated project's settings (the dict from `settings.yaml`; register only what the project uses).

Plugins are found through one list, `BUILTIN`, and the `seeknal_sqlmesh.plugins` entry-point group, so a package
can add one by declaring, in its `pyproject.toml`:

    [project.entry-points."seeknal_sqlmesh.plugins"]
    my_plugin = "my_package.plugin:plugin"    # a Plugin instance, or a class to instantiate

The core (`project/`, `translators/`, `runtime/`, `macros/`) imports no plugin: it calls these hooks.
"""

from __future__ import annotations

import functools
import importlib
import logging
import typing as t
from dataclasses import dataclass, field

from seeknal_sqlmesh.errors import SeeknalError

if t.TYPE_CHECKING:
    import click
    from pydantic import BaseModel

    from seeknal_sqlmesh.project.models import Node, Project
    from seeknal_sqlmesh.translators.base import ModelSpec, NodeTranslation, TranslationContext

logger = logging.getLogger("seeknal_sqlmesh")
ENTRY_POINT_GROUP = "seeknal_sqlmesh.plugins"
BUILTIN = (
    "seeknal_sqlmesh.features.plugin:plugin",
    "seeknal_sqlmesh.semantic.plugin:plugin",
    "seeknal_sqlmesh.starrocks.plugin:plugin",
    "seeknal_sqlmesh.workflow.plugin:plugin",
)


@dataclass
class Assembly:
    """A translated project before it is written: every node's translation, each model on its gateway."""

    project: Project
    ctx: TranslationContext
    pieces: t.Dict[str, NodeTranslation]


@dataclass
class Contribution:
    """What a plugin adds to a translated project."""

    models: t.List[ModelSpec] = field(default_factory=list)
    files: t.Dict[str, str] = field(default_factory=dict)  # path relative to the output -> text
    manifest: t.Optional[BaseModel] = None  # the plugin's section of seeknal/manifest.json


class Plugin:
    """Base class of plugins: every hook does nothing until overridden."""

    name: str = ""

    def commands(self) -> t.Sequence[click.Command]:
        return ()

    def node_keys(self, kind: str) -> t.Collection[str]:
        return ()

    def translate_node(self, node: Node, ctx: TranslationContext) -> t.Optional[NodeTranslation]:
        return None

    def assemble(self, assembly: Assembly) -> t.Optional[Contribution]:
        return None

    def register_sqlmesh(self, settings: t.Mapping[str, t.Any]) -> None:
        return None


class PluginError(SeeknalError):
    """A plugin that cannot be loaded."""


def _load(reference: str, origin: str) -> Plugin:
    module_name, _, attribute = reference.partition(":")
    try:
        obj: t.Any = getattr(importlib.import_module(module_name), attribute or "plugin")
    except (ImportError, AttributeError) as e:
        raise PluginError(f"plugin {origin} ({reference}) cannot be loaded: {e}", "reinstall or uninstall it") from e
    if isinstance(obj, type):
        obj = obj()
    if not isinstance(getattr(obj, "name", None), str) or not obj.name:
        raise PluginError(f"plugin {origin} ({reference}) has no name", "give the plugin object a `name`")
    return t.cast(Plugin, obj)


@functools.cache
def plugins() -> t.Tuple[Plugin, ...]:
    """The built-in plugins, then those installed through the entry-point group, each name once."""
    from importlib.metadata import entry_points

    found: t.Dict[str, Plugin] = {}
    for reference in BUILTIN:
        plugin = _load(reference, "built-in")
        found[plugin.name] = plugin
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if entry.value in BUILTIN:
            continue
        try:
            plugin = _load(entry.value, f"'{entry.name}' (entry point)")
        except PluginError as e:  # one broken third-party package must not take the whole command down
            logger.warning("seeknal: %s (skipped; %s)", e.message, e.hint)
            continue
        if plugin.name in found:
            raise PluginError(
                f"plugin '{entry.name}' ({entry.value}) uses the name '{plugin.name}' of another plugin",
                "rename one of them",
            )
        found[plugin.name] = plugin
    return tuple(found.values())


@functools.cache
def node_keys(kind: str) -> t.FrozenSet[str]:
    """Top-level keys some plugin reads on nodes of `kind` (the loader does not call them unknown)."""
    return frozenset(key for plugin in plugins() for key in plugin.node_keys(kind))


def translate_node(node: Node, ctx: TranslationContext) -> t.Optional[NodeTranslation]:
    """The first plugin translation of `node`, or None when no plugin takes it."""
    for plugin in plugins():
        piece = plugin.translate_node(node, ctx)
        if piece is not None:
            return piece
    return None


def assemble(assembly: Assembly) -> t.Dict[str, Contribution]:
    """Each plugin's contribution, by plugin name (plugins that add nothing are left out)."""
    out: t.Dict[str, Contribution] = {}
    for plugin in plugins():
        contribution = plugin.assemble(assembly)
        if contribution is not None:
            out[plugin.name] = contribution
    return out


def register_sqlmesh(settings: t.Mapping[str, t.Any]) -> None:
    for plugin in plugins():
        plugin.register_sqlmesh(settings)
