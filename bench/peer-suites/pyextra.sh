# Sourced by the peer-suite runners: Python modules the suites need that the
# python3 on PATH lacks, taken from Debian's python3-* packages. A pyenv python
# does not see /usr/lib/python3/dist-packages, and putting all of it on the
# path would shadow its own newer packages, so only the missing modules are
# linked into one directory that goes on PYTHONPATH.

# The Debian package that ships a module (installed when neither python3 nor
# dist-packages has it), or nothing for modules Debian does not package.
py_debian_package() {
  case $1 in
    paramiko) echo python3-paramiko ;;
    bcrypt) echo python3-bcrypt ;;
    nacl) echo python3-nacl ;;
    websocket) echo python3-websocket ;;
    oauthlib) echo python3-oauthlib ;;
    requests_oauthlib) echo python3-requests-oauthlib ;;
    aiohttp) echo python3-aiohttp ;;
    multidict) echo python3-multidict ;;
    yarl) echo python3-yarl ;;
    frozenlist) echo python3-frozenlist ;;
    aiosignal) echo python3-aiosignal ;;
    async_timeout) echo python3-async-timeout ;;
    idna) echo python3-idna ;;
    pytest_timeout) echo python3-pytest-timeout ;;
    dateutil) echo python3-dateutil ;;
    six) echo python3-six ;;
    yaml) echo python3-yaml ;;
    google) echo python3-google-auth ;;
  esac
}

# py_link_missing DIR MODULE... : link each MODULE python3 cannot import into DIR;
# prints the modules still missing (not in dist-packages either).
py_link_missing() {
  local dir=$1 mod dist=/usr/lib/python3/dist-packages missing=()
  shift
  mkdir -p "$dir"
  for mod in "$@"; do
    if PYTHONPATH="$dir" python3 -c "import $mod" 2>/dev/null; then continue; fi
    if [ ! -e "$dist/$mod" ] && [ ! -e "$dist/$mod.py" ] && [ -n "$(py_debian_package "$mod")" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$(py_debian_package "$mod")" >/dev/null 2>&1 || true
    fi
    if [ -d "$dist/$mod" ]; then ln -sfn "$dist/$mod" "$dir/$mod"
    elif [ -f "$dist/$mod.py" ]; then ln -sf "$dist/$mod.py" "$dir/$mod.py"
    else missing+=("$mod"); fi
  done
  echo "${missing[*]}"
}
