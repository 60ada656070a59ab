# nginx.sh - a test's own nginx (Debian nginx-light) on 127.0.0.1: an
# ephemeral port, its config, logs (logs/) and root (www/) in the test's
# directory, stopped at exit.  The test is skipped when nginx is missing.
#
#   . "$PEA_SRC/tests/cli/nginx.sh"
#   nginx_start 'LOG_FORMAT' 'HTTP_DIRECTIVES' 'SERVER_DIRECTIVES'
#
# sets PORT, U (http://127.0.0.1:PORT) and NGINX_PID; requests are logged
# to logs/access.log in LOG_FORMAT.  A test that sets its own EXIT trap
# calls nginx_stop in it.

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

nginx_stop() {
	kill "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
}

nginx_start() {
	local bin
	bin=$(command -v nginx || echo /usr/sbin/nginx)
	if [ ! -x "$bin" ]; then
		echo "1..0 # SKIP nginx is not installed (scripts/debian-packages lists nginx-light)"
		exit 0
	fi
	chmod 755 "$TMP" # nginx's workers run as nobody when the test runs as root
	mkdir -p www logs
	PORT=$(free_port)
	cat > nginx.conf <<CONF
daemon off;
worker_processes 1;
pid $TMP/logs/nginx.pid;
error_log $TMP/logs/error.log;
events { worker_connections 64; }
http {
	include /etc/nginx/mime.types;
	log_format t '$1';
	access_log $TMP/logs/access.log t;
	client_body_temp_path $TMP/logs/body;
	proxy_temp_path $TMP/logs/proxy;
	fastcgi_temp_path $TMP/logs/fastcgi;
	uwsgi_temp_path $TMP/logs/uwsgi;
	scgi_temp_path $TMP/logs/scgi;
	$2
	server {
		listen 127.0.0.1:$PORT;
		root $TMP/www;
		$3
	}
}
CONF
	"$bin" -c "$TMP/nginx.conf" -p "$TMP" 2> logs/stderr &
	NGINX_PID=$!
	trap 'nginx_stop; rm -rf "$TMP"' EXIT
	U="http://127.0.0.1:$PORT"
	for _ in $(seq 100); do
		python3 -c "import urllib.request as u; u.urlopen('$U/robots.txt')" 2>/dev/null
		[ -s logs/access.log ] && break
		sleep 0.05
	done
}
