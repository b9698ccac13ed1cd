# Sourced by the peer-suite runners: Python modules the suites need that the
# python3 on PATH lacks, taken from Debian's python3-* packages. A pyenv python
# does not see /usr/lib/python3/dist-packages, and putting all of it on the
# path would shadow its own newer packages, so only the missing modules are
# linked into one directory that goes on PYTHONPATH.

# py_link_missing DIR MODULE... : link each MODULE python3 cannot import into DIR;
# prints the modules still missing (not in dist-packages either).
py_link_missing() {
  local dir=$1 mod dist=/usr/lib/python3/dist-packages missing=()
  shift
  mkdir -p "$dir"
  for mod in "$@"; do
    if PYTHONPATH="$dir" python3 -c "import $mod" 2>/dev/null; then continue; fi
    if [ -d "$dist/$mod" ]; then ln -sfn "$dist/$mod" "$dir/$mod"
    elif [ -f "$dist/$mod.py" ]; then ln -sf "$dist/$mod.py" "$dir/$mod.py"
    else missing+=("$mod"); fi
  done
  echo "${missing[*]}"
}
