// Package deploy holds the deployment files (compose environment, secrets layout,
// the Temporal namespace job, the container healthcheck). Its tests check them, with
// the Dockerfile and docker-compose.yml, without a Docker engine.
package deploy
