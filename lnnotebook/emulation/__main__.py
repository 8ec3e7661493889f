"""``python -m lnnotebook.emulation``: serve every emulator until interrupted (as ``lnnotebook sandbox``)."""

import sys

from lnnotebook.emulation.sandbox import main

sys.exit(main())
