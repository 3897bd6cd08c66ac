"""Forms of the pages that work a run: ticking an item (its value is checked by the
service, ``checklists.services.runs.item_tick``) and the page to go back to."""

from django import forms

# The pages a tick or untick comes from (and, without JavaScript, goes back to).
PAGES = (("mine", "mine"), ("run", "run"))


class UntickForm(forms.Form):
    page = forms.ChoiceField(choices=PAGES, required=False)

    def back_to(self) -> str:
        """``mine`` or ``run``: where the form was (My checklists unless it says)."""
        if self.is_valid() and self.cleaned_data["page"]:
            return self.cleaned_data["page"]
        return "mine"


class TickForm(UntickForm):
    # The service checks it against what the item asks for (and its length).
    value = forms.CharField(required=False, strip=True)
