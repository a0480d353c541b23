export const metadata = { title: 'native-sse relay (Next.js)' }

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  )
}
