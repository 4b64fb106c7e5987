/** A failure said where it happened, announced to screen readers; nothing when there is none. */
export const ErrorNote = ({ message, id }: { message: string | null | undefined; id?: string }) =>
  message ? (
    <p id={id} class="error" role="alert">
      {message}
    </p>
  ) : null
