import { chromiumMissingReason, launchChromium } from "@lowrank/test-services/chromium";
import { skipWithoutService, titleWithReason } from "@lowrank/test-services/skip";
import { describe, expect, it } from "vitest";

const missing = chromiumMissingReason();

describe.skipIf(skipWithoutService(missing))(titleWithReason("launchChromium", missing), () => {
  it("starts headless Chromium and runs script in a page", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent("<main><h1>lowrank</h1></main>");
      expect(await page.locator("h1").textContent()).toBe("lowrank");
      expect(await page.evaluate(() => [1, 2, 3].reduce((a, b) => a + b, 0))).toBe(6);
      expect(browser.version()).toMatch(/^\d+\./);
    } finally {
      await browser.close();
    }
  });
});
