import Markdown from "react-markdown";
import rehypeRaw from "rehype-raw";
import rehypeSanitize, { defaultSchema } from "rehype-sanitize";
import remarkGfm from "remark-gfm";

/**
 * What survives sanitizing: GitHub's allow-list (no `<script>`, no `on*` attributes, no `style`,
 * links only http(s)/mailto), and images only from this hub (relative URLs): a card cannot make the
 * browser fetch another host, which also keeps pages working offline.
 */
const schema = defaultSchema;

/** A URL with a scheme (`https:`, `data:`) or protocol-relative (`//host`): not this hub. */
const ELSEWHERE = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/**
 * A model card from untrusted Markdown. Hugging Face cards mix in HTML, so raw HTML is parsed
 * (`rehype-raw`) and then sanitized (`rehype-sanitize`); order matters: sanitize runs last.
 */
export function ModelCard({ markdown }: { markdown: string }) {
  if (!markdown.trim()) return <p className="muted">This adapter has no model card.</p>;
  return (
    <div className="markdown">
      <Markdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[rehypeRaw, [rehypeSanitize, schema]]}
        // Card authors often leave out alt text: an image without one is treated as decoration.
        components={{
          img: ({ node: _node, alt, src, ...props }) =>
            typeof src === "string" && !ELSEWHERE.test(src.trim()) ? (
              <img {...props} src={src} alt={alt ?? ""} />
            ) : (
              <span className="muted">[image{alt ? `: ${alt}` : ""} from another site, not loaded]</span>
            ),
        }}
      >
        {markdown}
      </Markdown>
    </div>
  );
}
