"""Runs the "A fleet on Spark" section of README.md as written, in the current directory: its
```sh blocks with bash, its ```python blocks in one namespace (what they print goes to
stderr). Then prints the rows of the DataFrames the recipe names, as JSON:
{"per_host": [[...], ...], "top_failing": [[...], ...]}.

    python run_spark_recipe.py README.md

Used by the recipe test (tests/recipes.rs) so that the documentation and the test cannot
drift apart.
"""
import contextlib
import json
import re
import subprocess
import sys

HEADING = "## A fleet on Spark"

readme = open(sys.argv[1], encoding="utf-8").read()
if HEADING not in readme:
    sys.exit("README has no section %r" % HEADING)
section = readme.split(HEADING, 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```(sh|python)\n(.*?)```", section, re.S)
if not any(lang == "python" for lang, _ in blocks):
    sys.exit("no python block in the section")

namespace = {"__name__": "__recipe__"}
with contextlib.redirect_stdout(sys.stderr):
    for lang, body in blocks:
        if lang == "sh":
            subprocess.run(["bash", "-euo", "pipefail", "-c", body], check=True, stdout=sys.stderr)
        else:
            exec(compile(body, "README.md (Spark recipe)", "exec"), namespace)
result = {name: [list(row) for row in namespace[name].collect()] for name in ("per_host", "top_failing")}
namespace["spark"].stop()
print(json.dumps(result))
