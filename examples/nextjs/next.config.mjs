// native-sse is a native addon: Next.js must load it from node_modules at run time, not bundle it
// into the server chunks. The root is this directory (the repository around it has its own lockfile).
/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['native-sse'],
  turbopack: { root: import.meta.dirname },
  outputFileTracingRoot: import.meta.dirname,
}

export default nextConfig
