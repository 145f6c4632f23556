"use client";

import { DIGIT_SIDE, digitPixels } from "@lowrank/examples/features";
import { useEffect, useRef } from "react";

const SIZE = 280;
const LINE = 22;

/**
 * A canvas to draw a digit on with a mouse, a finger or a pen (pointer events; the page does not
 * scroll while drawing), white ink on black as MNIST digits are. Each finished stroke is preprocessed
 * as MNIST was (`digitPixels`: bounding box into 20x20, centred by mass in 28x28, [0, 1]) and handed
 * to `onDraw`; a 28x28 preview shows what the model sees, with the values in `data-pixels`. "Clear the
 * drawing" blanks both and calls `onClear`: the page then has no input (not the old digit).
 */
export function DigitCanvas({
  onDraw,
  onClear,
  disabled,
}: {
  onDraw: (pixels: Float32Array) => void;
  onClear: () => void;
  disabled?: boolean;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const preview = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const pixels = useRef<Float32Array>(new Float32Array(DIGIT_SIDE * DIGIT_SIDE));

  const ctx = () => canvas.current?.getContext("2d", { willReadFrequently: true }) ?? null;

  function paintPreview(px: Float32Array) {
    const p = preview.current?.getContext("2d");
    if (!p) return;
    const img = p.createImageData(DIGIT_SIDE, DIGIT_SIDE);
    px.forEach((v, i) => {
      const g = Math.round(v * 255);
      img.data.set([g, g, g, 255], i * 4);
    });
    p.putImageData(img, 0, 0);
    preview.current?.setAttribute("data-pixels", Array.from(px).join(","));
  }

  /** Blanks the canvas and the preview. */
  function blank() {
    const c = ctx();
    if (!c) return;
    c.fillStyle = "#000";
    c.fillRect(0, 0, SIZE, SIZE);
    pixels.current = new Float32Array(DIGIT_SIDE * DIGIT_SIDE);
    paintPreview(pixels.current);
  }

  useEffect(blank, []);

  const point = (e: React.PointerEvent<HTMLCanvasElement>): [number, number] => {
    const r = e.currentTarget.getBoundingClientRect();
    return [((e.clientX - r.left) * SIZE) / r.width, ((e.clientY - r.top) * SIZE) / r.height];
  };

  function finish() {
    if (!drawing.current) return;
    drawing.current = false;
    const c = ctx();
    if (!c) return;
    const rgba = c.getImageData(0, 0, SIZE, SIZE).data;
    const gray = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < gray.length; i++) gray[i] = (rgba[i * 4] as number) / 255;
    pixels.current = digitPixels(gray, SIZE, SIZE);
    paintPreview(pixels.current);
    onDraw(pixels.current);
  }

  return (
    <div className="digit-pad">
      <canvas
        ref={canvas}
        width={SIZE}
        height={SIZE}
        data-testid="digit-canvas"
        role="img"
        aria-label="Drawing area: draw one digit with the mouse, a finger or a pen"
        style={{ touchAction: "none", width: SIZE, height: SIZE, cursor: disabled ? "not-allowed" : "crosshair" }}
        onPointerDown={(e) => {
          if (disabled) return;
          e.currentTarget.setPointerCapture(e.pointerId);
          const c = ctx();
          if (!c) return;
          drawing.current = true;
          const [x, y] = point(e);
          c.strokeStyle = "#fff";
          c.fillStyle = "#fff";
          c.lineWidth = LINE;
          c.lineCap = "round";
          c.lineJoin = "round";
          c.beginPath();
          c.arc(x, y, LINE / 2, 0, 2 * Math.PI);
          c.fill();
          c.beginPath();
          c.moveTo(x, y);
        }}
        onPointerMove={(e) => {
          if (!drawing.current) return;
          const c = ctx();
          const [x, y] = point(e);
          c?.lineTo(x, y);
          c?.stroke();
        }}
        onPointerUp={finish}
        onPointerCancel={finish}
      />
      <div className="stack">
        <button
          type="button"
          onClick={() => {
            blank();
            onClear();
          }}
        >
          Clear the drawing
        </button>
        <figure>
          <canvas
            ref={preview}
            width={DIGIT_SIDE}
            height={DIGIT_SIDE}
            data-testid="digit-pixels"
            role="img"
            aria-label="What the model sees: the drawing as 28 by 28 pixels"
            style={{ width: 84, height: 84, imageRendering: "pixelated", border: "1px solid #888" }}
          />
          <figcaption className="muted">Model input, 28x28</figcaption>
        </figure>
      </div>
    </div>
  );
}
