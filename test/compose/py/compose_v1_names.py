# What Debian's docker-compose 1.29.2 makes of a project directory, through
# its own Python modules and without a daemon: the project name, the engine
# names of its networks and volumes, each service's ports, environment and image. The loader's
# tests compare tug's model with it where the two specs agree.
# usage: compose_v1_names.py DIR [PROJECT_NAME]
import json, os, sys
from compose.cli.command import get_project_name
from compose.config import config
from compose.config.environment import Environment
d = sys.argv[1]
pname = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
env = Environment.from_env_file(d)
details = config.find(d, None, env)
cfg = config.load(details)
name = get_project_name(d, pname, env)
from compose.network import build_networks
from compose.volume import ProjectVolumes
nets = build_networks(name, cfg, None)
vols = ProjectVolumes.from_config(name, cfg, None)
def port(p):
    return {"target": int(p.target), "published": "" if p.published is None else str(p.published), "host_ip": p.external_ip or "", "protocol": p.protocol or "tcp"}
out = {"name": name,
       "networks": {k: n.full_name for k, n in nets.items()},
       "volumes": {k: v.full_name for k, v in vols.volumes.items()},
       "ports": {s["name"]: [port(x) for x in s.get("ports", [])] for s in cfg.services},
       "environment": {s["name"]: s.get("environment", {}) for s in cfg.services},
       "image": {s["name"]: s.get("image") for s in cfg.services}}
print(json.dumps(out))
