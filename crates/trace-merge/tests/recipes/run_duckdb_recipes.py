"""Runs the "Querying at scale with DuckDB" section of README.md as written, in the current
directory: its ```sh blocks with bash, its ```sql blocks statement by statement in one DuckDB
connection. Prints one JSON line per SQL statement that returns rows:
{"label": <the comment line above it>, "columns": [...], "rows": [[...], ...]}.

    python run_duckdb_recipes.py README.md

Used by the recipe test (tests/recipes.rs) so that the documentation and the test cannot
drift apart.
"""
import json
import re
import subprocess
import sys

import duckdb

HEADING = "## Querying at scale with DuckDB"

readme = open(sys.argv[1], encoding="utf-8").read()
if HEADING not in readme:
    sys.exit("README has no section %r" % HEADING)
section = readme.split(HEADING, 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```(sh|sql)\n(.*?)```", section, re.S)
if not blocks:
    sys.exit("no sh or sql blocks in the section")

con = duckdb.connect()
for lang, body in blocks:
    if lang == "sh":
        subprocess.run(["bash", "-euo", "pipefail", "-c", body], check=True)
        continue
    label, statement = "", []
    for line in body.splitlines() + [""]:
        stripped = line.strip()
        if not stripped and not statement:
            continue
        if stripped.startswith("--"):
            if not statement:
                label = (label + " " + stripped[2:].strip()).strip() if label else stripped[2:].strip()
            continue
        statement.append(line)
        if stripped.endswith(";"):
            sql = "\n".join(statement).strip()
            con.execute(sql)
            if con.description:
                columns = [d[0] for d in con.description]
                rows = [list(r) for r in con.fetchall()]
                print(json.dumps({"label": label, "sql": sql, "columns": columns, "rows": rows}, default=str))
            label, statement = "", []
    if "\n".join(statement).strip():
        sys.exit("SQL block ends without ';': %r" % "\n".join(statement))
