/** A secret the API gives out once (a webhook's signing secret, a new API key), until "Done". */
export const ShownOnce = ({
  what,
  value,
  testId,
  onDone,
}: {
  what: string
  value: string
  testId: string
  onDone: () => void
}) => (
  <div class="notice" role="status" data-testid={testId}>
    <p>{what} It is shown only now: copy it where it will be used.</p>
    <code>{value}</code>
    <button type="button" class="small" onClick={onDone}>
      Done
    </button>
  </div>
)
