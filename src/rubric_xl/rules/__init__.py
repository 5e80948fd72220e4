"""Rule packs: the rubric as declarative, validated data."""
from .pack import RulePack, content_hash, load_pack, load_pack_text

__all__ = ["RulePack", "load_pack", "load_pack_text", "content_hash"]
