"""The typed wire between front-ends and the core: operations in, events out.

Import from here; the submodules are the implementation.
"""

from arcan_core.protocol.events import *  # noqa: F403 - the package re-exports its submodules
from arcan_core.protocol.events import __all__ as _events_all
from arcan_core.protocol.messages import *  # noqa: F403
from arcan_core.protocol.messages import __all__ as _messages_all
from arcan_core.protocol.operations import *  # noqa: F403
from arcan_core.protocol.operations import __all__ as _operations_all
from arcan_core.protocol.records import *  # noqa: F403
from arcan_core.protocol.records import __all__ as _records_all

__all__ = [*_events_all, *_messages_all, *_operations_all, *_records_all]  # noqa: PLE0604
