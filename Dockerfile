# One image for every Hangar process: the command picks web, worker or beat (scripts/entrypoint.sh).

# Front-end assets come from npm; only node_modules leaves this stage, so the final image has no node.
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# bubblewrap and slirp4netns are what the local sandbox runtime uses for isolation and egress;
# git fetches linked notebooks when a repository webhook arrives.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap slirp4netns git \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 hangar \
    && useradd --system --uid 10001 --gid hangar --home-dir /app --shell /usr/sbin/nologin hangar

WORKDIR /app

# Requirements first, so a code change does not reinstall every dependency.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY --from=assets /build/node_modules ./node_modules
COPY . .

# Production mode refuses to start without these; the dummies exist only for this build step and
# are not kept in the image's environment.
RUN ENVIRONMENT=production \
    SECRET_KEY=collectstatic-build-only-not-a-real-key \
    DATABASE_URL=sqlite:////tmp/build.db \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
    && chmod +x scripts/entrypoint.sh \
    && mkdir -p var/media \
    && chown -R hangar:hangar var

ENV ENVIRONMENT=production

# The numeric id lets Kubernetes verify runAsNonRoot without resolving names.
USER 10001:10001

EXPOSE 8000

# Django rejects a Host that is not in ALLOWED_HOSTS, so the probe sends the first allowed host.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; u.urlopen(u.Request('http://127.0.0.1:8000/health/live', headers={'Host': h}), timeout=4)"

ENTRYPOINT ["scripts/entrypoint.sh"]
CMD ["web"]
