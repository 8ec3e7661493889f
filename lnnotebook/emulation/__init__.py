"""Provider-neutral emulation of invoice providers' HTTP APIs (werkzeug), and the sandbox that runs them.

* ``emulator``: the ``Emulator`` base class (dispatch, faults, minting, paying) a provider's
  ``emulator.py`` subclasses;
* ``web``: routes, JSON bodies, replies and Basic credentials shared by every emulator;
* ``faults``: what ``Sandbox.inject`` does; ``minting``: signing real invoices; ``state``: typed
  invoice state and fee schedules; ``server``: the loopback werkzeug server;
* ``sandbox``: ``Sandbox``/``sandbox()`` (exported lazily as ``lnnotebook.sandbox``) and ``main``
  (``lnnotebook sandbox``, ``python -m lnnotebook.emulation``).

Which providers have an emulator is declared by each provider's folder (``lnnotebook.providers``).
"""
