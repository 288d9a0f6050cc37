"""``chatrec serve`` start-up time and reply latency over the Gradio API (see ui/bench.py).

    CHATREC_HOME=<home with built MovieLens resources> python benchmarks/ui_serve.py
"""

import sys

from ui.bench import main

if __name__ == "__main__":
    sys.exit(main())
