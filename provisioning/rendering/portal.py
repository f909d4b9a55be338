"""Harbor portal: the web UI's static files served by nginx on 8080 (read-only root, ``/tmp`` writable)."""

from __future__ import annotations

from provisioning.rendering.names import HTTP_PORT, PORTAL, object_name
from provisioning.rendering.objects import Checksums, Object, config_map, service
from provisioning.rendering.pods import (
    TMP_PATH,
    config_map_volume,
    container,
    container_port,
    deployment,
    empty_dir,
    http_probe,
    image,
    mount,
    pod_template,
)
from provisioning.rendering.spec import StackSpec

NGINX_CONF = """worker_processes auto;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;

events {
    worker_connections 1024;
}

http {
    client_body_temp_path /tmp/client_body_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    access_log /dev/stdout;
    server_tokens off;

    server {
        listen 8080;
        server_name localhost;
        root /usr/share/nginx/html;
        index index.html index.htm;
        include /etc/nginx/mime.types;

        gzip on;
        gzip_min_length 1000;
        gzip_proxied expired no-cache no-store private auth;
        gzip_types text/plain text/css application/json application/javascript text/xml
                   application/xml application/xml+rss text/javascript;

        location /devcenter-api-2.0 {
            try_files $uri $uri/ /swagger-ui-index.html;
        }

        location / {
            try_files $uri $uri/ /index.html;
        }

        location = /index.html {
            add_header Cache-Control "no-store, no-cache, must-revalidate";
        }
    }
}
"""


def render_portal_configmap(spec: StackSpec) -> Object:
    """``<instance>-portal``: ``nginx.conf``."""
    return config_map(spec, PORTAL, object_name(spec, PORTAL), {"nginx.conf": NGINX_CONF})


def render_portal_deployment(spec: StackSpec, checksums: Checksums) -> Object:
    name = object_name(spec, PORTAL)
    portal = container(
        "portal",
        image(spec, "harbor-portal"),
        PORTAL,
        spec.components.portal,
        ports=[container_port("http", HTTP_PORT)],
        mounts=[
            mount("config", "/etc/nginx/nginx.conf", "nginx.conf"),
            mount("tmp", TMP_PATH, read_only=False),
        ],
        liveness=http_probe("/", HTTP_PORT, initial_delay=5),
        readiness=http_probe("/", HTTP_PORT, initial_delay=1),
    )
    volumes = [config_map_volume("config", name), empty_dir("tmp", "64Mi")]
    template = pod_template(spec, PORTAL, [portal], volumes, checksums)
    return deployment(spec, PORTAL, name, spec.components.portal.replicas, template)


def render_portal_service(spec: StackSpec) -> Object:
    return service(spec, PORTAL, object_name(spec, PORTAL), [("http-web", 80, "http")])
