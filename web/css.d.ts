// esbuild's `text` loader (package.json build:web) makes a stylesheet import its text.
declare module '*.css' {
  const text: string
  export default text
}
