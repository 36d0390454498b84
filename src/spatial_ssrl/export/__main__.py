import sys

from spatial_ssrl.export import main

sys.exit(main())
