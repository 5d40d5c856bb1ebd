FROM node:20-bookworm-slim
WORKDIR /app
RUN npm ci
FROM nginx:1.27-alpine
COPY --from=0 /app/dist /usr/share/nginx/html
