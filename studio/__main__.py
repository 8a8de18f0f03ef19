import sys

from studio.launch import main

sys.exit(main())
