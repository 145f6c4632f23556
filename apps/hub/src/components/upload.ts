/** `PUT /api/uploads?sha256=…` with progress: resolves with the stored blob's digest and size. */
export function uploadFile(
  bytes: Uint8Array,
  sha256: string,
  onProgress: (loaded: number) => void,
): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/uploads?sha256=${sha256}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status === 201 || xhr.status === 200) {
        onProgress(bytes.byteLength);
        resolve(JSON.parse(xhr.responseText) as { sha256: string; size: number });
        return;
      }
      let message = `upload answered ${xhr.status}`;
      try {
        message = (JSON.parse(xhr.responseText) as { error?: { message?: string } }).error?.message ?? message;
      } catch {}
      reject(new Error(message));
    };
    xhr.onerror = () => reject(new Error("the upload failed: network error"));
    xhr.send(new Blob([bytes as BlobPart]));
  });
}
