"""Sessions and user profiles in SQLite (WAL), surviving restarts.

    from chatrec.store import Store
    store = Store(settings.store_path)
    store.save_session("web:abc", state_dict, user_id="web:alice")
    store.load_session("web:abc")            # the dict, or None
    store.export("web:alice"); store.forget("web:alice")
"""

from chatrec.store.schema import SCHEMA_VERSION
from chatrec.store.sqlite import Store

__all__ = ["SCHEMA_VERSION", "Store"]
