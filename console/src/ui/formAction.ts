import { useState } from "preact/hooks";
import { errorText } from "../api";

/** An admin form's submit: the form's data to `action`, the button busy meanwhile, the form
 * reset after success, and the error's text (the contract's message) shown when it fails. One
 * hook for every "Add ..." form rather than the same try/finally on each page. */
export function useFormAction(action: (data: FormData) => Promise<void>): {
  busy: boolean;
  error: string;
  setError: (text: string) => void;
  submit: (event: Event) => Promise<void>;
} {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setBusy(true);
    setError("");
    try {
      await action(new FormData(form));
      form.reset();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, submit };
}
