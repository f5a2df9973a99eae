# syntax=docker/dockerfile:1
# NewsletterMigrator container image.
#   docker build -t newsletter-migrator .
#   docker run -p 8080:8080 -v newsletter-data:/data newsletter-migrator

# ---------- Build stage ----------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Copy only the solution, shared MSBuild props and the project file first so
# that `dotnet restore` is cached as its own layer and only re-runs when
# package references change.
COPY NewsletterMigrator.sln Directory.Build.props Directory.Packages.props ./
COPY src/NewsletterMigrator/NewsletterMigrator.csproj src/NewsletterMigrator/
# For the target's architecture only (BuildKit sets TARGETARCH): SkiaSharp and HarfBuzzSharp (the SVG logo's mail
# raster) ship native libraries for about twenty platforms, about 600 MB in all, of which the image needs one.
ARG TARGETARCH
RUN dotnet restore src/NewsletterMigrator/NewsletterMigrator.csproj -a $TARGETARCH

# Copy the rest of the sources (filtered by .dockerignore) and publish.
# The publish output already contains appsettings.json and wwwroot, which the
# project links from the repository root.
COPY . .
RUN dotnet publish src/NewsletterMigrator/NewsletterMigrator.csproj \
        -c Release -o /app --no-restore -a $TARGETARCH --self-contained false

# ---------- Runtime stage ----------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final

# The aspnet image already ships a non-root user `app` (UID 1654) exposed as
# $APP_UID. Create the data volume directory owned by it while still root.
RUN mkdir /data && chown $APP_UID /data

# Fonts for text in an SVG logo's mail PNG (Skia's NoDependencies build finds none by itself; see LogoFonts):
# Liberation has the metrics of Arial, Times and Courier, DejaVu covers further scripts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-liberation fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY --from=build /app .

ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    App__DataDirectory=/data \
    Database__ConnectionString="Data Source=/data/newsletter.db" \
    Smtp__PickupDirectory=/data/mail-pickup \
    MALLOC_ARENA_MAX=2
# MALLOC_ARENA_MAX: two glibc malloc arenas instead of up to 8 per core keep SQLite's freed native
# memory from spreading over a dozen arenas during a campaign (see src/NewsletterMigrator/Common/NativeHeap.cs).
# Mail is written to the pickup directory by default. For real delivery set
# Smtp__Host (and Smtp__Port, Smtp__Username, Smtp__Password, ...) at run
# time, e.g. `docker run -e Smtp__Host=smtp.example.org ...`; never bake
# credentials into the image.

# SQLite database, mail pickup directory and any other persistent state.
VOLUME ["/data"]

EXPOSE 8080

# No HEALTHCHECK: the aspnet base image contains neither curl nor wget.
# The orchestrator (Kubernetes probe, Compose healthcheck with a sidecar,
# load balancer, ...) should probe HTTP GET /healthz on port 8080.

USER $APP_UID

ENTRYPOINT ["dotnet", "NewsletterMigrator.dll"]
