// CSS files are bundled as minified text (see build.mjs) and adopted as constructed sheets.
declare module "*.css" {
  const css: string;
  export default css;
}
