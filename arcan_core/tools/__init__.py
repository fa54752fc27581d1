"""Typed, schema-validated tools run as actors under an approval policy.

Where things live:

* ``base``: the abstract ``Tool`` and the types the core exchanges with the executor;
* ``registry``: ``ToolRegistry`` and ``default_registry()`` (every built-in tool);
* ``schema`` / ``validation``: the strict-mode schema the model sees and the compiled validator;
* ``executor``: ``ToolExecutor.run_batch``, the actors, their ordering and cancellation;
* ``policy`` / ``shell``: the approval policy and the shell-line splitter it matches rules with;
* ``sandbox``: bubblewrap for the shell in ``auto-edit`` and ``full-auto``;
* ``paths``, ``output``, ``state``: path containment, bounded and scrubbed output, session state;
* ``builtin``: one module per built-in tool (read, write, edit, patch, search, bash, todo,
  web_fetch). A new tool is a ``Tool`` subclass plus one line in ``builtin.BUILTIN_ORDER``,
  then ``python -m arcan_core.tools.builtin.precompute`` (the registry reads the tool's
  description and schemas from ``builtin/schemas.json``; a test says when it is out of date).
"""
