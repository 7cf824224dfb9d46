# ec2-manager: multi-stage build on Debian slim (glibc: the AWS SDK and pg need nothing more).
# Build: docker build -t ec2-manager .
# Run:   docker run -e AWS_MODE=aws -e DATABASE_URL=... -e MANAGER_ID=... -e INSTANCE_PUBKEY=... -e REGIONS=... ec2-manager
# One-off commands use the same image: `node dist/cli/migrate.js`, `node dist/cli/setup.js`,
# `node dist/cli/job.js housekeeping`.
# The runtime stage installs production dependencies only: no embedded Postgres and no SQS emulator
# (development dependencies, for `npm start` and the tests), so the image needs DATABASE_URL and AWS_MODE=aws.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    AWS_MODE=aws \
    LOG_FORMAT=json \
    PORT=5555
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's built-in unprivileged user; nothing in /app is writable by it.
USER node
EXPOSE 5555
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5555)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
