import sys

from lnnotebook.sandbox.serve import main

sys.exit(main())
