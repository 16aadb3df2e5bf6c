// Screenshots of a running Smart Play demo (see scripts/screenshots).
// Usage: node demo/screenshots.mjs URL USER PASSWORD OUTDIR
// Logs in through Home Assistant's login page, then saves PNGs of the integration page,
// the config flow dialog, the device page and the Smart Play dashboard.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [url, user, password, outDir] = process.argv.slice(2);
if (!url || !user || !password || !outDir) {
  console.error("usage: node screenshots.mjs URL USER PASSWORD OUTDIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const context = await browser.newContext({
  viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 1,
  colorScheme: "light",
});
const page = await context.newPage();
page.setDefaultTimeout(30000);
const errors = [];
page.on("pageerror", (err) => errors.push(String(err)));

async function settle(ms = 2500) {
  await page.waitForLoadState("networkidle").catch(() => {});
  await page.waitForTimeout(ms);
}

async function shot(name) {
  const path = join(outDir, `${name}.png`);
  await page.screenshot({ path });
  console.log(`saved ${path}`);
}

// 1. Log in through HA's own login page.
await page.goto(url);
await page.waitForURL(/\/auth\/authorize/);
const username = page.locator('input[name="username"], input[autocomplete="username"]').first();
await username.waitFor();
await username.fill(user);
await page.locator('input[name="password"], input[type="password"]').first().fill(password);
await shot("01-login");
await page.keyboard.press("Enter");
await page.waitForURL((u) => !u.pathname.startsWith("/auth/"), { timeout: 30000 });
await settle();

// 2. The Smart Play dashboard: occupancy, tracking view camera, media player, controls.
// The live view is an MJPEG stream that ends when the first frame is late (HA stops a
// still-image stream on an empty frame), so reload the page until a frame shows.
const cameraImage = page.locator('img[src*="/api/camera_proxy"]').first();
let frameWidth = 0;
for (let attempt = 0; attempt < 4 && !frameWidth; attempt++) {
  await page.goto(`${url}/smart-play/smart-play`);
  for (let i = 0; i < 15; i++) {
    await page.waitForTimeout(1000);
    frameWidth = (await cameraImage.count())
      ? await cameraImage.evaluate((img) => img.naturalWidth).catch(() => 0)
      : 0;
    const occupied = await page.getByText("Detected", { exact: true }).count();
    if (frameWidth && occupied) break;
  }
}
console.log(`tracking view: ${frameWidth ? `${frameWidth} px wide` : "no frame"}`);
await page.waitForTimeout(1000);
await shot("02-dashboard");

// 3. The integration page with the configured entry.
await page.goto(`${url}/config/integrations/integration/smart_play`);
await settle();
await shot("03-integration");

// 4. The device page (all entities of the entry).
const device = page.locator('a[href^="/config/devices/device/"]').first();
if (await device.count()) {
  await page.goto(url + (await device.getAttribute("href")));
  await settle(4000);
  await shot("04-device");
}

// 5. The config flow dialog: "Add integration" → Smart Play → first step (target menu).
await page.goto(`${url}/config/integrations/dashboard/add?domain=smart_play`);
await settle(2000);
const confirm = page.getByRole("button", { name: /^ok$/i });
if (await confirm.count()) await confirm.first().click(); // "Do you want to set up Smart Play?"
await settle(3000);
await shot("05-config-flow");

// 6. Its next step: pick a media player.
const mediaPlayerOption = page.getByText(/media player/i).first();
if (await mediaPlayerOption.count()) {
  await mediaPlayerOption.click();
  await settle(2000);
  await shot("06-config-flow-media-player");
}

if (errors.length) console.log(`page errors: ${errors.join(" | ")}`);
await browser.close();
