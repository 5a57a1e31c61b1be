// parse_mermaid.mjs - Mermaid's own parser on diagrams read as a JSON array
// of strings from standard input; writes a JSON array with, for each, the
// error or what Mermaid read: diagram type, title, participants, messages
// (notes included).  Driven by check_mermaid.py.  mermaid.parse needs a DOM
// for its sanitizer (DOMPurify), which jsdom gives it: no browser.
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

let input = '';
for await (const chunk of process.stdin)
  input += chunk;
const results = [];
for (const text of JSON.parse(input)) {
  try {
    await mermaid.parse(text);
    const d = await mermaid.mermaidAPI.getDiagramFromText(text);
    results.push({
      type: d.type,
      title: d.db.getDiagramTitle ? d.db.getDiagramTitle() : null,
      actors: [...d.db.getActors().values()].map(a => a.description),
      messages: d.db.getMessages().map(m => m.message),
    });
  } catch (e) {
    results.push({ error: String(e && e.message ? e.message : e) });
  }
}
process.stdout.write(JSON.stringify(results));
