# The builder pattern's runtime image (npm run bench): built from the files
# bench/builder/build.sh copied out of the build image's container.
FROM gcr.io/distroless/nodejs24-debian13
WORKDIR /app/services/api
COPY . /app/
ENV NODE_ENV=production PORT=3000 DATA_DIR=/data
USER 65532:65532
EXPOSE 3000
CMD ["dist/main.js"]
