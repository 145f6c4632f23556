import { HealthStatus } from "./HealthStatus.js";

export default function Home() {
  return (
    <main>
      <h1>lowrank hub</h1>
      <p className="lede">Publish, search and try LoRA adapters on base models that stay loaded.</p>
      <HealthStatus />
    </main>
  );
}
